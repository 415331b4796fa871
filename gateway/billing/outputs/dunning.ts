import { DateTime } from 'luxon';
import type { BillingPeriod } from '../calendar.ts';
import { Dec, formatMoney, sum } from '../money.ts';
import { type Lang, esc, htmlPage, longDate, periodName } from './html.ts';
import { type OutputContext, compareText } from './statements-csv.ts';

// The dunning calendar, 费用催缴规程 (handbook 第三节 四). Each list is worked out
// from one snapshot of arrears: the caller passes the arrears as of the list's date
// (the 18th for phone reminders, the 23rd for letters, ...) and prints that list.

export interface UnitArrears {
  unitId: string;
  company: string;
  occupancy: 'owner' | 'tenant';
  /** Unpaid statements of this unit, oldest first: period, the statement total, unpaid part, due date. */
  unpaid: Array<{ period: string; total: string; unpaid: string; dueDate: string }>;
  contacts: Array<{ name: string; phone: string; mobile?: string }>;
  /** Total unpaid, decimal string. */
  balance: string;
  vacant: boolean;
}

export type DunningListId = 'phone_reminders' | 'dunning_letters' | 'suspension' | 'owner_letters' | 'legal' | 'security_arrears';

export interface DunningRow {
  unitId: string;
  company: string;
  occupancy: 'owner' | 'tenant';
  vacant: boolean;
  balance: string;
  /** Distinct periods with an unpaid amount. */
  monthsInArrears: number;
  /** Those periods, oldest first ("2026-10"). */
  periods: string[];
  contacts: UnitArrears['contacts'];
}

export interface DunningList {
  id: DunningListId;
  period: string;
  /** Local date (YYYY-MM-DD) the list is worked on. */
  date: string;
  needsApproval: boolean;
  title: { zh: string; en: string };
  units: DunningRow[];
}

/** Every dunning list of a period, in calendar order; empty lists are included. */
export function dunningLists(period: BillingPeriod, arrears: readonly UnitArrears[]): DunningList[] {
  const rows = arrears
    .map(toRow)
    .filter((r) => new Dec(r.balance).gt(0))
    .sort((a, b) => compareText(a.unitId, b.unitId));
  const list = (id: DunningListId, date: string, units: DunningRow[], needsApproval = false): DunningList => ({
    id, period: period.id, date, needsApproval, title: TITLES[id], units,
  });
  return [
    // 第六节 (三)3: on the 5th CSC sends 当月欠费情况表 to the security duty room.
    list('security_arrears', period.dueDate, rows),
    // 四.3(1)(2): on the 18th finance lists unpaid units and CSC phones each one.
    list('phone_reminders', period.reminderDate, rows),
    // 四.3(7): a tenant (not an owner) more than one month in arrears: write to the owner at once (附件1).
    // The 18th is the first arrears count after the due date, so the letter goes out then.
    list('owner_letters', period.reminderDate, rows.filter((r) => r.occupancy === 'tenant' && r.monthsInArrears >= 2)),
    // 四.3(3): on the 23rd a letter with a deadline, signed for by the tenant (附件2).
    list('dunning_letters', period.dunningDate, rows),
    // 四.3(4): still unpaid after a visit: services stop on the last day of the month,
    // only with the signature of the head (管理处主任 in the hub's roles).
    list('suspension', period.suspensionDate, rows, true),
    // 四.3(5): nobody in the unit and 3 months or more unpaid: the CSC division lead engages a lawyer.
    list('legal', period.suspensionDate, rows.filter((r) => r.vacant && r.monthsInArrears >= 3)),
  ];
}

/**
 * One letter per unit: 附件2 (关于催缴物业管理费用的函) for 'dunning_letters', 附件1
 * (关于租户拖欠物业管理费用的函) for 'owner_letters'. `payBy` is the deadline on a
 * dunning letter; by default the day before services stop.
 */
export function dunningLetterHtml(list: DunningList, ctx: OutputContext, lang: Lang, payBy?: string): string {
  if (list.id !== 'dunning_letters' && list.id !== 'owner_letters') {
    throw new RangeError(`"${list.id}" is a list, not letters; print it with dunningListHtml`);
  }
  const deadline = payBy ?? DateTime.fromISO(ctx.period.suspensionDate, { zone: 'UTC' }).minus({ days: 1 }).toISODate()!;
  const letters = list.units.map((r) => (list.id === 'dunning_letters' ? dunningLetter(r, list, ctx, lang, deadline) : ownerLetter(r, list, ctx, lang)));
  const body = letters.length > 0 ? letters.join('\n') : `<section class="sheet"><p>${esc(lang === 'zh' ? '无' : 'None')}</p></section>`;
  return htmlPage(lang, `${list.title[lang]} ${list.date}`, body);
}

/** A worksheet for the lists that are not letters; the suspension list carries the director's approval line. */
export function dunningListHtml(list: DunningList, ctx: OutputContext, lang: Lang): string {
  const zh = lang === 'zh';
  const extra = EXTRA_COLUMN[list.id]?.[lang];
  const head = [zh ? '序号' : 'No.', zh ? '单元' : 'Unit', zh ? '公司' : 'Company', zh ? '业主/租户' : 'Owner/tenant'];
  if (list.id === 'legal') head.push(zh ? '空置' : 'Vacant');
  head.push(zh ? '欠费月数' : 'Months', zh ? '欠费期间' : 'Periods', zh ? '欠费金额' : 'Balance', zh ? '联系人' : 'Contacts');
  if (extra) head.push(extra);
  const rows = list.units.map((r, i) => {
    const cells = [String(i + 1), r.unitId, r.company, occupancyText(r.occupancy, lang)];
    if (list.id === 'legal') cells.push(r.vacant ? (zh ? '是' : 'yes') : zh ? '否' : 'no');
    cells.push(String(r.monthsInArrears), r.periods.join(', '), r.balance, contactsText(r.contacts));
    if (extra) cells.push('');
    return `<tr>${cells.map((c, j) => `<td${NUMERIC.has(head[j]!) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`;
  });
  const total = formatMoney(sum(list.units.map((r) => new Dec(r.balance))));
  const parts = [
    '<section class="sheet">',
    `<p class="site">${esc(ctx.site.name[lang])}</p>`,
    `<h1>${esc(list.title[lang])}</h1>`,
    `<p class="sub">${esc(`${periodName(list.period, lang)} · ${longDate(list.date, lang)}`)}</p>`,
    `<p>${esc(LIST_NOTES[list.id](ctx, lang))}</p>`,
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`,
    ...rows,
    `<tr class="total"><th colspan="${head.length - (extra ? 3 : 2)}">${esc(zh ? `合计 ${list.units.length} 户` : `Total, ${list.units.length} units`)}</th><td class="num">${esc(total)}</td><td colspan="${extra ? 2 : 1}"></td></tr>`,
    '</table>',
  ];
  if (list.needsApproval) {
    parts.push(`<p class="sign">${esc(zh ? '管理处主任审批：' : 'Approved by the management-office director: ')}<span class="blank"></span> ${esc(zh ? '日期：' : 'Date: ')}<span class="blank"></span></p>`);
  }
  parts.push('</section>');
  return htmlPage(lang, `${list.title[lang]} ${list.date}`, parts.join('\n'));
}

function toRow(a: UnitArrears): DunningRow {
  const periods = [...new Set(a.unpaid.filter((u) => new Dec(u.unpaid).gt(0)).map((u) => u.period))].sort(compareText);
  const contacts = a.contacts.map((c) => ({ ...c }));
  return { unitId: a.unitId, company: a.company, occupancy: a.occupancy, vacant: a.vacant, balance: a.balance, monthsInArrears: periods.length, periods, contacts };
}

function dunningLetter(r: DunningRow, list: DunningList, ctx: OutputContext, lang: Lang, deadline: string): string {
  const money = moneyText(r.balance, ctx, lang);
  const months = monthsText(r.periods, lang);
  const dueDay = ctx.billing.paymentDueDay;
  const body =
    lang === 'zh'
      ? [
          `尊敬的${r.unitId}（单元号）业户（${r.company}）：`,
          `首先感谢您长期以来对我处各项物业管理工作的支持与配合！贵司所${r.occupancy === 'tenant' ? '承租' : '使用'}的物业（${r.unitId}）目前尚未缴付${months}的物业管理费用共计${money}。按照《管理公约》的相关规定，每月的管理费用须于当月${dueDay}日前缴纳。请贵司在${longDate(deadline, 'zh')}前前来我处缴清上述费用，如逾期我处将采取停止相关服务之措施。不便之处，敬请谅解！`,
        ]
      : [
          `Dear occupier of unit ${r.unitId} (${r.company}),`,
          `Thank you for your continued support of and cooperation with our property management. The property management charges for ${months} for the unit you ${r.occupancy === 'tenant' ? 'rent' : 'occupy'} (${r.unitId}), ${money} in total, remain unpaid. Under the Management Covenant, each month's charges are payable by day ${dueDay} of the month. Please settle the above amount at our office by ${longDate(deadline, 'en')}; if it is still unpaid then, we will suspend the related services. We apologise for any inconvenience.`,
        ];
  // 四.3(3): the tenant signs for the letter and the receipt (回执) comes back to CSC.
  const receipt =
    lang === 'zh'
      ? `回执：兹收到${ctx.site.name.zh}管理处《关于催缴物业管理费用的函》（${r.unitId}，${r.company}）。`
      : `Receipt: we have received the ${ctx.site.name.en} management office's letter on unpaid property management charges (${r.unitId}, ${r.company}).`;
  return letter(LETTER_TITLES.dunning_letters[lang], body, list, ctx, lang, receiptBlock(receipt, lang));
}

function ownerLetter(r: DunningRow, list: DunningList, ctx: OutputContext, lang: Lang): string {
  const money = moneyText(r.balance, ctx, lang);
  const months = monthsText(r.periods, lang);
  const phone = ctx.billing.enquiryPhone;
  // The owner's name is not in the hub's records: the template's blank stays for CSC to fill in.
  const blank = '<span class="blank"></span>';
  const body =
    lang === 'zh'
      ? [
          `尊敬的${esc(r.unitId)}（单元号）业主（${blank}公司/先生/小姐）：`,
          esc(`首先感谢您长期以来对我处各项物业管理工作的支持与配合！贵司所出租的物业（${r.unitId}，租户：${r.company}）目前尚未缴付${months}的物业管理费用共计${money}，特此知会。按照《管理公约》关于业主权利与义务的相关规定，业主应对租户承担连带责任，请您及时对其予以关注并与我处联系。`),
          `联系人：${blank} 电话：${esc(phone)}`,
        ]
      : [
          `Dear owner of unit ${esc(r.unitId)} (${blank}),`,
          esc(`Thank you for your continued support of and cooperation with our property management. We write to inform you that the property management charges for ${months} for the property you let (${r.unitId}, tenant: ${r.company}), ${money} in total, remain unpaid. Under the owners' rights and obligations in the Management Covenant, an owner is jointly liable for the tenant; please look into the matter and contact our office.`),
          `Contact: ${blank} Phone: ${esc(phone)}`,
        ];
  // 四.3(7): every such letter is filed with the unit's records.
  const filed = `<p class="notes">${esc(lang === 'zh' ? `抄存：${r.unitId} 商户档案` : `Copy filed with the records of unit ${r.unitId}`)}</p>`;
  return letter(LETTER_TITLES.owner_letters[lang], body, list, ctx, lang, filed, true);
}

// The letter body paragraphs are plain text unless `bodyIsHtml` (the owner letter has blanks to fill in).
function letter(title: string, body: string[], list: DunningList, ctx: OutputContext, lang: Lang, tail: string, bodyIsHtml = false): string {
  const [salutation, ...paragraphs] = body.map((p) => (bodyIsHtml ? p : esc(p)));
  return [
    '<section class="sheet letter">',
    `<h1>${esc(title)}</h1>`,
    `<p>${salutation ?? ''}</p>`,
    ...paragraphs.map((p) => `<p class="body">${p}</p>`),
    `<p class="body">${esc(lang === 'zh' ? '专此函告' : 'Yours faithfully,')}</p>`,
    `<p class="sign">${esc(lang === 'zh' ? `${ctx.site.name.zh}管理处` : `${ctx.site.name.en} Management Office`)}<br>${esc(longDate(list.date, lang))}</p>`,
    tail,
    '</section>',
  ].join('\n');
}

function receiptBlock(text: string, lang: Lang): string {
  const zh = lang === 'zh';
  return `<div class="receipt"><p>${esc(text)}</p><p>${esc(zh ? '签收人：' : 'Signed for by: ')}<span class="blank"></span> ${esc(zh ? '日期：' : 'Date: ')}<span class="blank"></span></p></div>`;
}

function moneyText(amount: string, ctx: OutputContext, lang: Lang): string {
  if (lang === 'zh') return ctx.tariffs.currency === 'CNY' ? `${amount}元` : `${amount} ${ctx.tariffs.currency}`;
  return `${ctx.tariffs.currency} ${amount}`;
}

function monthsText(periods: readonly string[], lang: Lang): string {
  return lang === 'zh' ? `${periods.map((p) => periodName(p, 'zh')).join('、')}份` : periods.map((p) => periodName(p, 'en')).join(', ');
}

function occupancyText(o: DunningRow['occupancy'], lang: Lang): string {
  return lang === 'zh' ? (o === 'owner' ? '业主' : '租户') : o;
}

function contactsText(contacts: DunningRow['contacts']): string {
  return contacts.map((c) => [c.name, c.phone, c.mobile].filter(Boolean).join(' ')).join('; ');
}

const NUMERIC = new Set(['序号', 'No.', '欠费月数', 'Months', '欠费金额', 'Balance']);

const TITLES: Record<DunningListId, { zh: string; en: string }> = {
  security_arrears: { zh: '当月欠费情况表', en: 'Arrears list for the security duty room' },
  phone_reminders: { zh: '电话催费名单', en: 'Phone reminder list' },
  owner_letters: { zh: '租户欠费知会业主名单', en: 'Tenant arrears: letters to owners' },
  dunning_letters: { zh: '催费函发送名单', en: 'Dunning letter list' },
  suspension: { zh: '停止服务审批名单', en: 'Service suspension list (for approval)' },
  legal: { zh: '法律途径追缴名单', en: 'Legal action list' },
};

const LETTER_TITLES = {
  dunning_letters: { zh: '关于催缴物业管理费用的函', en: 'Unpaid property management charges' },
  owner_letters: { zh: '关于租户拖欠物业管理费用的函', en: 'Property management charges unpaid by your tenant' },
} as const;

const EXTRA_COLUMN: Partial<Record<DunningListId, { zh: string; en: string }>> = {
  phone_reminders: { zh: '催缴结果', en: 'Call result' },
  suspension: { zh: '上门拜访日期', en: 'Visited on' },
};

const LIST_NOTES: Record<DunningListId, (ctx: OutputContext, lang: Lang) => string> = {
  security_arrears: (_, l) => (l === 'zh' ? '送保安队值班室备案：以下单元欠费未清，费用结清前其物资不得搬出。' : 'For the security duty room: these units have unpaid fees; their goods may not leave until the fees are settled.'),
  phone_reminders: (c, l) => (l === 'zh' ? `请致电以下单元，请其于${longDate(c.period.dunningDate, 'zh')}前到收费室缴纳现金或支票。` : `Phone each unit below and ask it to pay in cash or by cheque at the cashier by ${longDate(c.period.dunningDate, 'en')}.`),
  owner_letters: (_, l) => (l === 'zh' ? '以下租户欠费超过一个月，须立即书面发函知会业主，函件归入商户档案。' : 'These tenants are more than one month in arrears: write to the owner at once and file the letter with the unit.'),
  dunning_letters: (_, l) => (l === 'zh' ? '向以下单元发出催费函，请商户签收并收回回执。' : 'Deliver a dunning letter to each unit below; the tenant signs the receipt, which comes back to CSC.'),
  suspension: (c, l) => (l === 'zh' ? `以下单元经上门拜访后仍未缴纳所欠费用，拟于${longDate(c.period.suspensionDate, 'zh')}停止相关服务，并通知安保部控制其物资出入。商户签署《承诺书》后可临时开通水电。` : `These units are still unpaid after a visit: services stop on ${longDate(c.period.suspensionDate, 'en')} and security holds their goods movements. Signing a letter of undertaking (承诺书) restores water and power temporarily.`),
  legal: (_, l) => (l === 'zh' ? '以下单元无人办公且欠费达3个月以上，由客户服务中心分管领导联系律师起诉。' : 'Nobody works in these units and they are 3 months or more in arrears: the CSC division lead engages a lawyer.'),
};
