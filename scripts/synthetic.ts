// Realistic synthetic department data for the demo, the bench and tests: population (人口), legal
// persons (法人) and licences (证照). Deterministic for a seed. Nothing here is real personal data.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'.split(
    '',
  );
const GIVEN =
  '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉玲红梅鑫宇浩然子涵梓萱欣怡俊杰思远雨轩志强海燕晓东'.split(
    '',
  );
const DISTRICTS: [string, string][] = [
  ['360102', '南昌市东湖区'],
  ['360103', '南昌市西湖区'],
  ['360111', '南昌市青山湖区'],
  ['360112', '南昌市新建区'],
  ['360702', '赣州市章贡区'],
  ['360703', '赣州市南康区'],
  ['360704', '赣州市赣县区'],
  ['360781', '赣州市瑞金市'],
];
const STREETS = ['八一大道', '阳明路', '北京东路', '红谷中大道', '文清路', '章江路', '长征大道', '赣江源大道'];
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** An 18-digit resident ID number (居民身份证号码) with a valid check digit. */
export function idNumber(r: () => number, district: string, birth: string): string {
  const body = district + birth.replaceAll('-', '') + String(Math.floor(r() * 1000)).padStart(3, '0');
  const sum = [...body].reduce((s, d, i) => s + Number(d) * ID_WEIGHTS[i]!, 0);
  return body + ID_CHECK[sum % 11];
}

export interface Person {
  id: number;
  id_no: string;
  name: string;
  gender: string;
  birth_date: string;
  phone: string;
  district: string;
  address: string;
  updated_at: number;
  deleted: number;
}

export function person(r: () => number, id: number, updatedAt: number): Person {
  const [code, district] = pick(r, DISTRICTS);
  const y = 1940 + Math.floor(r() * 65);
  const m = 1 + Math.floor(r() * 12);
  const d = 1 + Math.floor(r() * 28);
  const birth = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const given = pick(r, GIVEN) + (r() < 0.6 ? pick(r, GIVEN) : '');
  return {
    id,
    id_no: idNumber(r, code, birth),
    name: pick(r, SURNAMES) + given,
    gender: r() < 0.5 ? '男' : '女',
    birth_date: birth,
    phone: `1${pick(r, ['38', '39', '58', '59', '86', '88', '35', '77'])}${String(Math.floor(r() * 1e8)).padStart(8, '0')}`,
    district,
    address: `${district}${pick(r, STREETS)}${1 + Math.floor(r() * 999)}号${1 + Math.floor(r() * 30)}栋${1 + Math.floor(r() * 3000)}室`,
    updated_at: updatedAt,
    deleted: 0,
  };
}

export const PERSON_DDL = `CREATE TABLE IF NOT EXISTS person (
  id INTEGER PRIMARY KEY, id_no TEXT NOT NULL, name TEXT NOT NULL, gender TEXT, birth_date TEXT, phone TEXT,
  district TEXT, address TEXT, updated_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0)`;

/** Creates (or extends) a population table with `count` people; returns the database path. */
export function seedPopulation(
  path: string,
  count: number,
  opts: { seed?: number; firstId?: number; updatedAt?: number } = {},
): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(PERSON_DDL);
  db.exec('CREATE INDEX IF NOT EXISTS person_updated ON person (updated_at, id)');
  const r = rng(opts.seed ?? 42);
  const ins = db.prepare(
    'INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (@id, @id_no, @name, @gender, @birth_date, @phone, @district, @address, @updated_at, @deleted)',
  );
  const first = opts.firstId ?? 1;
  const at = opts.updatedAt ?? 1_700_000_000_000;
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) ins.run(person(r, i, at + i));
  });
  for (let i = first; i < first + count; i += 10_000) tx(i, Math.min(first + count, i + 10_000));
  db.close();
}

/** The standard field list of the population resource, with masking of the sensitive fields. */
export const PERSON_FIELDS = [
  { name: 'id', type: 'integer', required: true },
  { name: 'id_no', as: 'sfzh', type: 'string', required: true, mask: 'idcard' },
  { name: 'name', as: 'xm', type: 'string', required: true, mask: 'name' },
  { name: 'gender', as: 'xb', type: 'string' },
  { name: 'birth_date', as: 'csrq', type: 'date' },
  { name: 'phone', as: 'lxdh', type: 'string', mask: 'phone' },
  { name: 'district', as: 'xzqh', type: 'string' },
  { name: 'address', as: 'dz', type: 'string' },
  { name: 'updated_at', as: 'gxsj', type: 'integer' },
] as const;

const COMPANY_WORDS = ['赣江', '洪城', '红谷', '庐山', '井冈', '章贡', '滕王', '瑞金', '鄱阳', '青云'];
const COMPANY_KINDS = [
  '科技有限公司',
  '商贸有限公司',
  '建设工程有限公司',
  '食品有限公司',
  '物流有限公司',
  '医药有限公司',
  '农业发展有限公司',
];
const CREDIT_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** A unified social credit code (统一社会信用代码, GB 32100) with a valid check character. */
export function creditCode(r: () => number, district: string): string {
  const body = '91' + district + Array.from({ length: 10 }, () => CREDIT_CHARS[Math.floor(r() * 31)]).join('');
  const sum = [...body].reduce((s, c, i) => s + CREDIT_CHARS.indexOf(c) * CREDIT_WEIGHTS[i]!, 0);
  return body + CREDIT_CHARS[(31 - (sum % 31)) % 31];
}

export const LEGAL_PERSON_DDL = `CREATE TABLE IF NOT EXISTS legal_person (
  id INTEGER PRIMARY KEY, credit_code TEXT NOT NULL, name TEXT NOT NULL, legal_rep TEXT NOT NULL, rep_id_no TEXT NOT NULL,
  capital_wan REAL, established TEXT, district TEXT, address TEXT, status TEXT, updated_at INTEGER NOT NULL)`;

/** Creates a legal-person (法人) register of `count` enterprises. */
export function seedLegalPersons(path: string, count: number, seed = 7): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(LEGAL_PERSON_DDL);
  db.exec('CREATE INDEX IF NOT EXISTS legal_person_updated ON legal_person (updated_at, id)');
  const r = rng(seed);
  const ins = db.prepare('INSERT INTO legal_person VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= count; i++) {
      const p = person(r, i, 0);
      const [code, district] = pick(r, DISTRICTS);
      const y = 1995 + Math.floor(r() * 30);
      ins.run(
        i,
        creditCode(r, code),
        `江西${pick(r, COMPANY_WORDS)}${pick(r, COMPANY_WORDS)}${pick(r, COMPANY_KINDS)}`,
        p.name,
        p.id_no,
        Math.round(r() * 500000) / 100,
        `${y}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`,
        district,
        p.address,
        r() < 0.92 ? '存续' : '注销',
        1_700_000_000_000 + i,
      );
    }
  })();
  db.close();
}

export const LEGAL_PERSON_FIELDS = [
  { name: 'id', type: 'integer', required: true },
  { name: 'credit_code', as: 'tyshxydm', type: 'string', required: true },
  { name: 'name', as: 'qymc', type: 'string', required: true },
  { name: 'legal_rep', as: 'fddbr', type: 'string', mask: 'name' },
  { name: 'rep_id_no', as: 'fddbrsfzh', type: 'string', mask: 'idcard' },
  { name: 'capital_wan', as: 'zczb', type: 'number' },
  { name: 'established', as: 'clrq', type: 'date' },
  { name: 'district', as: 'xzqh', type: 'string' },
  { name: 'address', as: 'zs', type: 'string' },
  { name: 'status', as: 'djzt', type: 'string' },
] as const;

/**
 * Licence files (证照): small text certificates and larger binary "scans", `count` files in `dir`.
 * Returns their relative paths.
 */
export function seedLicenceFiles(dir: string, count: number, seed = 11): string[] {
  const r = rng(seed);
  const out: string[] = [];
  mkdirSync(`${dir}/营业执照`, { recursive: true });
  mkdirSync(`${dir}/scans`, { recursive: true });
  for (let i = 1; i <= count; i++) {
    const p = person(r, i, 0);
    if (i % 3 === 0) {
      const buf = randomBytes(64 * 1024 + Math.floor(r() * 3 * 1024 * 1024));
      const name = `scans/licence-${String(i).padStart(4, '0')}.jpg`;
      writeFileSync(`${dir}/${name}`, buf);
      out.push(name);
    } else {
      const name = `营业执照/证照-${String(i).padStart(4, '0')}.txt`;
      writeFileSync(
        `${dir}/${name}`,
        `营业执照\n证照编号: ZZ${String(i).padStart(8, '0')}\n持证人: ${p.name}\n地址: ${p.address}\n发证机关: 赣州市市场监督管理局\n`,
      );
      out.push(name);
    }
  }
  return out;
}
