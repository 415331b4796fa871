import { Dec } from '../money.ts';
import type { BoundaryRead, LineCode, MeterUse, RunResult, Statement, StatementLine } from '../types.ts';
import { type Lang, esc, fieldRows, htmlPage, localDateTime, longDate, periodName, signedDifference } from './html.ts';
import { type OutputContext, compareText, sortStatements } from './statements-csv.ts';

// Fee notices, 收费通知单 (handbook 第三节 三.4): finance hands them to CSC by the
// 30th and CSC delivers them before the 1st. The handbook asks each notice to show
// the payment deadline, the late fee (滞纳金) and an enquiry phone number. Only
// billed statements get one; a held statement waits for its reads to be fixed.

/** One printable document holding one notice per billed statement, in unit order. */
export function noticesHtml(result: RunResult, ctx: OutputContext, lang: Lang): string {
  const t = TEXT[lang];
  const billed = sortStatements(result.statements).filter((s) => s.status === 'billed');
  const title = `${ctx.site.name[lang]} ${ctx.corrects ? t.correctionTitle : t.title} ${periodName(result.period, lang)}`;
  const body = billed.length > 0 ? billed.map((s) => notice(s, ctx, lang)).join('\n') : `<section class="sheet"><p>${esc(t.none)}</p></section>`;
  return htmlPage(lang, title, body);
}

/**
 * The late-fee rule in words, from the daily rate: "逾期按欠费金额每日万分之五(0.05%)计收滞纳金"
 * or "A late fee of 0.05% of the overdue amount is charged per day after the due date."
 */
export function lateFeeText(lateFeePerDay: string, lang: Lang): string {
  const rate = new Dec(lateFeePerDay);
  if (rate.isZero()) return lang === 'zh' ? '逾期不计收滞纳金。' : 'No late fee is charged.';
  const percent = rate.times(100).toFixed();
  if (lang === 'en') return `A late fee of ${percent}% of the overdue amount is charged for each day after the due date.`;
  const words = chineseFraction(rate);
  return `逾期按欠费金额每日${words ? `${words}(${percent}%)` : `${percent}%`}计收滞纳金。`;
}

function notice(s: Statement, ctx: OutputContext, lang: Lang): string {
  const t = TEXT[lang];
  const tz = ctx.site.timezone;
  const notes = new Footnotes();
  const meterRows = [...s.meters]
    .sort((a, b) => compareText(a.kind, b.kind) || compareText(a.meterId, b.meterId))
    .map((m) => meterRow(m, lang, notes));
  const currency = lang === 'zh' && ctx.tariffs.currency === 'CNY' ? '元' : ctx.tariffs.currency;
  return [
    '<section class="sheet notice">',
    `<p class="site">${esc(ctx.site.name[lang])}</p>`,
    `<h1>${esc(ctx.corrects ? t.correctionTitle : t.title)}</h1>`,
    `<p class="sub">${esc(periodName(s.period, lang))} · ${esc(t.number)} ${esc(`${s.period}-${s.unitId}-v${ctx.version}`)}</p>`,
    fieldRows([
      [t.unit, t.location(s.unitId, s.tower, s.floor)],
      [t.company, s.company],
      [t.slice, `${localDateTime(s.readsFrom, tz)} – ${localDateTime(s.readsTo, tz)}`],
      [t.feeMonth, t.feeDays(periodName(s.period, lang), s.feeDays, ctx.period.feeMonth.days)],
      // A correction goes out later than the period's notice date, and the run has no clock to date it by.
      ...(ctx.corrects ? [] : [[t.noticeDate, longDate(ctx.period.noticeDate, lang)] as const]),
    ]),
    `<h2>${esc(t.meters)}</h2>`,
    `<table><tr><th>${esc(t.meter)}</th><th>${esc(t.serial)}</th><th class="num">${esc(t.opening)}</th><th class="num">${esc(t.closing)}</th><th class="num">${esc(t.use)}</th></tr>`,
    ...meterRows,
    '</table>',
    notes.html(),
    `<h2>${esc(t.charges)}</h2>`,
    `<table><tr><th>${esc(t.item)}</th><th>${esc(t.basis)}</th><th class="num">${esc(t.quantity)}</th><th class="num">${esc(t.unitPrice)}</th><th class="num">${esc(`${t.amount} (${currency})`)}</th></tr>`,
    ...s.lines.map((l) => chargeRow(l, t, lang)),
    totalRow(t.currentCharges, s.currentCharges),
    totalRow(t.previousArrears, s.previousArrears),
    totalRow(t.total, s.total, true),
    '</table>',
    ctx.corrects ? correction(s, ctx.corrects, lang) : '',
    '<div class="terms">',
    `<p><strong>${esc(t.payBy(longDate(s.dueDate, lang)))}</strong></p>`,
    `<p>${esc(lateFeeText(ctx.tariffs.lateFeePerDay, lang))}</p>`,
    `<p>${esc(t.payment)}</p>`,
    `<p>${esc(t.enquiry)}${esc(ctx.billing.enquiryPhone)}</p>`,
    '</div>',
    '</section>',
  ].join('\n');
}

function meterRow(m: MeterUse, lang: Lang, notes: Footnotes): string {
  const t = TEXT[lang];
  const read = (r: BoundaryRead) => `${esc(r.value)}${notes.mark(readNote(r, lang))}`;
  return (
    `<tr><td>${esc(`${m.kind === 'electricity' ? t.electricityMeter : t.waterMeter} ${m.meterId}`)}</td>` +
    `<td>${esc(m.serials.join(' → '))}</td><td class="num">${read(m.opening)}</td>` +
    `<td class="num">${read(m.closing)}</td><td class="num">${esc(`${m.use} ${m.unit}`)}</td></tr>`
  );
}

// Reads not taken at the boundary are marked so the tenant can see which figures
// are estimates or stand-ins and ask about them on the enquiry phone.
function readNote(r: BoundaryRead, lang: Lang): string | undefined {
  const t = TEXT[lang];
  if (r.basis === 'estimated') return r.rule ? t.estimatedBy(r.rule[lang]) : t.estimated;
  if (r.basis === 'fallback') return t.fallback;
  if (r.basis === 'edited') return t.edited;
  return undefined;
}

function chargeRow(l: StatementLine, t: Text, lang: Lang): string {
  const unit = QUANTITY_UNIT[l.code];
  return (
    `<tr><td>${esc(t.lines[l.code])}</td><td>${esc(l.basis[lang])}</td>` +
    `<td class="num">${esc(unit ? `${l.quantity} ${unit}` : l.quantity)}</td>` +
    `<td class="num">× ${esc(l.unitPrice)}</td><td class="num">= ${esc(l.amount)}</td></tr>`
  );
}

function totalRow(label: string, amount: string, strong = false): string {
  return `<tr${strong ? ' class="total"' : ''}><th colspan="4">${esc(label)}</th><td class="num">${esc(amount)}</td></tr>`;
}

// A correction (更正) shows each unit what it was asked for before and what changes.
function correction(s: Statement, corrects: NonNullable<OutputContext['corrects']>, lang: Lang): string {
  const t = TEXT[lang];
  const same = corrects.statements.filter((p) => p.unitId === s.unitId);
  const before = same.find((p) => p.from === s.from) ?? (same.length === 1 ? same[0] : undefined);
  const lines = [t.corrects(corrects.version, periodName(s.period, lang))];
  if (before) {
    lines.push(`${t.previousTotal}${before.total}`, `${t.correctedTotal}${s.total}`, `${t.difference}${signedDifference(s.total, before.total)}`);
  } else {
    lines.push(t.noPrevious);
  }
  return `<div class="correction">${lines.map((l) => `<p>${esc(l)}</p>`).join('')}</div>`;
}

class Footnotes {
  private readonly texts: string[] = [];

  /** The superscript mark for a note (numbered in order of first use), or nothing. */
  mark(text: string | undefined): string {
    if (text === undefined) return '';
    let i = this.texts.indexOf(text);
    if (i < 0) i = this.texts.push(text) - 1;
    return `<sup>${i + 1}</sup>`;
  }

  html(): string {
    if (this.texts.length === 0) return '';
    return `<ol class="notes">${this.texts.map((x) => `<li>${esc(x)}</li>`).join('')}</ol>`;
  }
}

// 万分之五 style wording, as rates are written on Chinese notices; rates that are not
// a whole number of 万分之 or 千分之 are given as a percentage alone.
function chineseFraction(rate: Dec): string | undefined {
  const perMille = rate.times(1000);
  if (perMille.isInteger() && perMille.gte(1) && perMille.lte(9)) return `千分之${chineseInteger(perMille.toNumber())}`;
  const perTenThousand = rate.times(10000);
  if (perTenThousand.isInteger() && perTenThousand.gte(1) && perTenThousand.lte(99)) return `万分之${chineseInteger(perTenThousand.toNumber())}`;
  return undefined;
}

function chineseInteger(n: number): string {
  const digits = '零一二三四五六七八九';
  if (n < 10) return digits[n]!;
  const tens = Math.floor(n / 10);
  return `${tens === 1 ? '' : digits[tens]}十${n % 10 === 0 ? '' : digits[n % 10]}`;
}

const QUANTITY_UNIT: Record<LineCode, string> = { electricity: 'kWh', water: 'm³', management_fee: '', late_fee: '' };

type Text = (typeof TEXT)['zh'];

const TEXT = {
  zh: {
    title: '收费通知单',
    correctionTitle: '更正通知单',
    none: '本期无已出单的收费通知。',
    number: '编号',
    unit: '单元',
    location: (unit: string, tower: string, floor: number) => `${unit}（${tower}座 ${floor}层）`,
    company: '公司',
    slice: '抄表期间',
    feeMonth: '管理费',
    feeDays: (month: string, days: number, of: number) => (days === of ? `${month}（整月）` : `${month}（${days}/${of} 天）`),
    noticeDate: '通知日期',
    meters: '水电表读数',
    meter: '表计',
    serial: '表号',
    opening: '上期读数',
    closing: '本期读数',
    use: '用量',
    electricityMeter: '电表',
    waterMeter: '水表',
    estimated: '估算读数',
    estimatedBy: (rule: string) => `估算读数（${rule}）`,
    fallback: '即时抄表失败，采用最近一次有效读数',
    edited: '经人工核对更正的读数',
    charges: '费用明细',
    item: '项目',
    basis: '计费依据',
    quantity: '数量',
    unitPrice: '单价',
    amount: '金额',
    lines: { electricity: '电费', water: '水费', management_fee: '管理费', late_fee: '滞纳金' } as Record<LineCode, string>,
    currentCharges: '本期费用合计',
    previousArrears: '上期欠费（负数为预存）',
    total: '应缴总额',
    // handbook 第三节 三.6: 每月5日前交清当月管理费及上月水电、维修费等费用
    payBy: (date: string) => `请于${date}前交清上述费用（当月管理费及上月水电等费用）。`,
    // handbook 第三节 二: 自动转帐、支票、现金（请勿将现金交予客服人员，直接交至财务）
    payment: '付款方式：银行自动转帐、支票，或到财务室缴纳现金；为便于管理，请勿将现金交予客服人员。',
    enquiry: '查询电话：',
    corrects: (version: number, period: string) => `本通知单更正${period}第${version}版收费通知单，原通知单作废。`,
    previousTotal: '原应缴总额：',
    correctedTotal: '更正后应缴总额：',
    difference: '差额：',
    noPrevious: '原通知单无本单元此项费用。',
  },
  en: {
    title: 'Fee notice',
    correctionTitle: 'Corrected fee notice',
    none: 'No fee notices were issued for this period.',
    number: 'No.',
    unit: 'Unit',
    location: (unit: string, tower: string, floor: number) => `${unit} (Tower ${tower}, floor ${floor})`,
    company: 'Company',
    slice: 'Meter reads',
    feeMonth: 'Management fee',
    feeDays: (month: string, days: number, of: number) => (days === of ? `${month} (full month)` : `${month} (${days} of ${of} days)`),
    noticeDate: 'Notice date',
    meters: 'Meter readings',
    meter: 'Meter',
    serial: 'Serial',
    opening: 'Opening read',
    closing: 'Closing read',
    use: 'Use',
    electricityMeter: 'Electricity',
    waterMeter: 'Water',
    estimated: 'estimated read',
    estimatedBy: (rule: string) => `estimated read (${rule})`,
    fallback: 'the fresh read failed; the latest good read was used',
    edited: 'read corrected by hand after checking',
    charges: 'Charges',
    item: 'Item',
    basis: 'Basis',
    quantity: 'Quantity',
    unitPrice: 'Unit price',
    amount: 'Amount',
    lines: { electricity: 'Electricity', water: 'Water', management_fee: 'Management fee', late_fee: 'Late fee' } as Record<LineCode, string>,
    currentCharges: 'Current charges',
    previousArrears: 'Previous balance (negative = credit)',
    total: 'Total due',
    payBy: (date: string) => `Please pay the total due by ${date} (this month's management fee and last month's water and electricity).`,
    payment: 'Pay by bank direct debit, by cheque, or in cash at the finance office; please do not hand cash to customer-service staff.',
    enquiry: 'Enquiries: ',
    corrects: (version: number, period: string) => `This notice corrects version ${version} of the fee notice for ${period}, which is withdrawn.`,
    previousTotal: 'Previous total due: ',
    correctedTotal: 'Corrected total due: ',
    difference: 'Difference: ',
    noPrevious: 'The previous notice had no charges for this unit.',
  },
} satisfies Record<Lang, unknown>;
