import type { Statement } from '../../../gateway/billing/types.ts';
import { texts, useT } from '../i18n.ts';
import { fmtDate } from '../time.ts';
import { fileUrl, RUN_FILES, type RunMeta } from './billing-types.ts';

// A run's documents, straight from the hub's file routes (the same bytes the CLI
// writes): CSV and JSON download, the HTML notices and summary open in a new tab to
// print. And the run's statements, amounts as the hub computed them (decimal strings).

const T = texts({
  files: ['文件', 'Documents'],
  'statements.csv': ['收费单（CSV）', 'Statements (CSV)'],
  'exceptions.csv': ['异常清单（CSV）', 'Exceptions (CSV)'],
  'summary.json': ['汇总（JSON）', 'Summary (JSON)'],
  'summary.html': ['汇总（打印）', 'Summary (print)'],
  'notices.zh.html': ['收费通知单（中文）', 'Notices (Chinese)'],
  'notices.en.html': ['收费通知单（英文）', 'Notices (English)'],
  statements: ['收费单', 'Statements'],
  unit: ['单元', 'Unit'],
  company: ['客户', 'Tenant'],
  from: ['起', 'From'],
  to: ['止', 'To'],
  current: ['本期费用', 'This period'],
  arrears: ['上期欠费', 'Arrears'],
  total: ['合计', 'Total'],
  due: ['缴费期限', 'Due'],
  status: ['状态', 'Status'],
  billed: ['已出单', 'billed'],
  held: ['暂缓', 'held'],
});

export function BillingFiles({ run }: { run: RunMeta }) {
  const t = useT(T);
  return (
    <div class="files" data-testid="run-files">
      <h3>{t('files')}</h3>
      <ul class="row">
        {RUN_FILES.map((name) => (
          <li key={name}>
            {name.endsWith('.html') ? (
              <a href={fileUrl(run, name)} target="_blank" rel="noopener" data-file={name}>
                {t(name)}
              </a>
            ) : (
              <a href={fileUrl(run, name)} download={`${run.period}-v${run.version}-${name}`} data-file={name}>
                {t(name)}
              </a>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function BillingStatements({ statements }: { statements: Statement[] }) {
  const t = useT(T);
  return (
    <section class="card" data-testid="statements">
      <h2>
        {t('statements')} <span class="muted">({statements.length})</span>
      </h2>
      <div class="scroll-x">
        <table class="grid">
          <thead>
            <tr>
              <th>{t('unit')}</th>
              <th>{t('company')}</th>
              <th>{t('from')}</th>
              <th>{t('to')}</th>
              <th class="num">{t('current')}</th>
              <th class="num">{t('arrears')}</th>
              <th class="num">{t('total')}</th>
              <th>{t('due')}</th>
              <th>{t('status')}</th>
            </tr>
          </thead>
          <tbody>
            {statements.map((s) => (
              <tr key={`${s.unitId}/${s.from}`} data-unit={s.unitId} data-status={s.status}>
                <td>{s.unitId}</td>
                <td>{s.company}</td>
                <td>{fmtDate(s.from)}</td>
                <td>{fmtDate(s.to)}</td>
                <td class="num">{s.currentCharges}</td>
                <td class="num">{s.previousArrears}</td>
                <td class="num">{s.total}</td>
                <td>{s.dueDate}</td>
                <td>
                  <span class={`badge stmt-${s.status}`} title={s.holds.join('\n')}>
                    {t(s.status)}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
