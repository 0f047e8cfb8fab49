// The dashboard's Chinese messages: the default language and the key set every other catalog must match.
/** One message per key; `{name}` placeholders are filled by t(). */
export const zh = {
  title: '政务数据共享交换平台',
  subtitle: '监控大屏',
  loading: '加载中…',
  loginTitle: '登录',
  loginHint: '请输入访问令牌（由省级管理员通过 xchg user create 签发）',
  token: '访问令牌',
  login: '登录',
  logout: '退出',
  loginFailed: '登录失败：{message}',
  sessionExpired: '会话已过期，请重新登录',
  language: 'English',
  signedInAs: '{name}（{role}）',
  scopeProvince: '全省',
  scopeRegion: '辖区 {region}',
  role_province_admin: '省级管理员',
  role_city_admin: '市级管理员',
  role_operator: '运维人员',
  role_auditor: '审计员',
  role_officer: '数据专员',
  cardDepartments: '已接入部门',
  cardDepartmentsSub: '共 {total} 个部门',
  cardNodes: '在线节点',
  cardNodesSub: '共 {total} 个 · 联通率 {rate}',
  cardExchanges: '今日交换批次',
  cardExchangesSub: '{records} 条记录',
  cardVolume: '今日交换量',
  cardVolumeSub: '错误 {errors} 次',
  cardResources: '已发布资源',
  cardResourcesSub: '信息资源目录',
  cardApplications: '待审批申请',
  cardApplicationsSub: '其中超期 {overdue} 件',
  cardAlerts: '未关闭告警',
  cardAlertsSub: '其中严重 {critical} 条',
  trendTitle: '交换量趋势',
  rangeToday: '今日',
  range7d: '近 7 天',
  range30d: '近 30 天',
  seriesRecords: '记录数',
  seriesBatches: '批次数',
  noData: '暂无数据',
  updatedAt: '更新于 {time}',
  loadFailed: '加载失败：{message}',
  // --- DASH-A ---
  pageOverview: '总览',
  pageNotFound: '没有页面 {page}',
  // --- end DASH-A ---
};

/** The shape every catalog has: zh's keys, string values. */
export type Messages = { [K in keyof typeof zh]: string };
export type MessageKey = keyof Messages;
