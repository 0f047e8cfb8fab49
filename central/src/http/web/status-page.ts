// Static HTML of the status page. Chinese by default, English with ?lang=en.
export const STATUS_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>xchg 政务数据共享交换平台</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",system-ui,sans-serif;margin:0;background:#f4f6f9;color:#1f2d3d}
 header{background:#1d4e89;color:#fff;padding:14px 24px;font-size:20px}
 main{padding:20px 24px} table{border-collapse:collapse;width:100%;background:#fff}
 th,td{padding:8px 10px;border-bottom:1px solid #e3e8ee;text-align:left;font-size:14px}
 th{background:#eef2f7} .online{color:#1a7f37;font-weight:600} .offline{color:#c62828;font-weight:600}
 .cards{display:flex;gap:16px;margin-bottom:16px} .card{background:#fff;padding:14px 20px;border-radius:6px;min-width:140px}
 .card b{display:block;font-size:26px} #login{background:#fff;padding:20px;max-width:420px}
</style></head><body>
<header id="title"></header><main>
<div id="login" hidden><p id="askToken"></p><input id="tok" type="password" size="40"><button id="go">OK</button></div>
<div id="view" hidden><div class="cards" id="cards"></div><table><thead id="thead"></thead><tbody id="rows"></tbody></table></div>
</main><script>
const en = new URLSearchParams(location.search).get('lang') === 'en';
const T = en ? {title:'xchg — data sharing and exchange', ask:'API token:', nodes:'Nodes', online:'Online', offline:'Offline', rate:'Online rate',
  cols:['Node','Department','Region','Status','Last heartbeat','Agent','Spool depth']}
 : {title:'xchg 政务数据共享交换平台', ask:'请输入 API 令牌：', nodes:'前置节点', online:'在线', offline:'离线', rate:'联通率',
  cols:['节点','部门','行政区划','状态','最近心跳','版本','缓存批次']};
document.getElementById('title').textContent = T.title;
document.getElementById('askToken').textContent = T.ask;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
// A link of the form /#token=… signs in without typing (the fragment never reaches the server).
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) { localStorage.setItem('xchgToken', fromHash); history.replaceState(null, '', location.pathname + location.search); }
async function load() {
  const token = localStorage.getItem('xchgToken');
  if (!token) { document.getElementById('login').hidden = false; return; }
  const get = (p) => fetch(p, {headers: {authorization: 'Bearer ' + token}});
  const res = await get('/api/v1/nodes');
  if (res.status === 401) { localStorage.removeItem('xchgToken'); document.getElementById('login').hidden = false; return; }
  const nodes = await res.json();
  const depts = Object.fromEntries((await (await get('/api/v1/departments')).json()).map((d) => [d.code, d.name]));
  const regions = Object.fromEntries((await (await get('/api/v1/regions')).json()).map((r) => [r.code, r.name]));
  const on = nodes.filter((n) => n.status === 'online').length;
  document.getElementById('cards').innerHTML = [[T.nodes, nodes.length], [T.online, on], [T.offline, nodes.length - on],
    [T.rate, nodes.length ? (100 * on / nodes.length).toFixed(1) + '%' : '-']].map(([k, v]) => '<div class="card">' + esc(k) + '<b>' + esc(v) + '</b></div>').join('');
  document.getElementById('thead').innerHTML = '<tr>' + T.cols.map((c) => '<th>' + esc(c) + '</th>').join('') + '</tr>';
  document.getElementById('rows').innerHTML = nodes.map((n) => '<tr><td>' + esc(n.name) + '<br><small>' + esc(n.id) + '</small></td><td>' + esc(depts[n.departmentCode] || n.departmentCode) +
    '</td><td>' + esc(regions[n.regionCode] || n.regionCode) + '</td><td class="' + n.status + '">' + (n.status === 'online' ? T.online : T.offline) + '</td><td>' +
    (n.lastHeartbeatAt ? new Date(n.lastHeartbeatAt).toLocaleString(en ? 'en-GB' : 'zh-CN', {hour12: false}) : '-') + '</td><td>' + esc(n.agentVersion) + '</td><td>' +
    esc(n.health && n.health.spoolDepth !== undefined ? n.health.spoolDepth : '-') + '</td></tr>').join('');
  document.getElementById('view').hidden = false;
}
document.getElementById('go').onclick = () => { localStorage.setItem('xchgToken', document.getElementById('tok').value); location.reload(); };
load(); setInterval(load, 5000);
</script></body></html>`;
