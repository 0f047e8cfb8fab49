// A minimal JSON client of central's HTTP API for tests (what the CLI does, without the CLI).
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Ensures the province and a department in it exist. */
  async seedDepartment(dept: string, region = { code: '360000', name: '江西省' }): Promise<void> {
    const have = await this.call('GET', `/regions/${region.code}`);
    if (have.status === 404)
      await this.ok('POST', '/regions', { code: region.code, name: region.name, level: 'province' });
    const d = await this.call('GET', `/departments/${dept}`);
    if (d.status === 404) await this.ok('POST', '/departments', { code: dept, name: dept, regionCode: region.code });
  }

  /** Issues a one-time enrollment token for a node of `dept`. */
  async enrollToken(dept: string, nodeName: string): Promise<string> {
    const r = await this.ok<{ token: string }>('POST', '/tokens', { departmentCode: dept, nodeName });
    return r.token;
  }
}
