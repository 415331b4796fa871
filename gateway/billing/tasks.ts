import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { TaskContext, WorkTask } from '../work/types.ts';
import { checkImport } from './csv.ts';
import { ImportStaging } from './import-staging.ts';
import { dunningFor } from './dunning-run.ts';
import type { BillingService } from './service.ts';

// The billing work that touches many rows or builds large documents (issue 15):
// what a worker thread does for gateway/billing/work.ts. It only reads the records
// store; what it computes goes back to the main thread, the one writer.

/** A chunk of the export is sent once it holds this much text: big enough to be cheap, small enough to stay flat. */
const CHUNK_CHARS = 64 * 1024;

export async function runBillingTask(task: WorkTask, service: BillingService, ctx: TaskContext): Promise<unknown> {
  switch (task.kind) {
    case 'billing.compute':
      return service.compute(task.period, percentSteps((done, total) => ctx.progress({ stage: 'meters', done, total })));
    case 'billing.file': {
      const run = service.repo.run(task.period, task.version);
      return (run && service.renderFile(run, task.name)) ?? null;
    }
    case 'billing.run-view':
      return service.runView(task.period) ?? null;
    case 'billing.dunning':
      return dunningFor(service, service.building(), task.period, task.date);
    case 'billing.export-readings': {
      const total = service.building().modbus.meters.length;
      const step = percentSteps((done) => ctx.progress({ stage: 'meters', done, total }));
      let text = '';
      let meters = -1; // the first chunk is the header
      for (const chunk of service.readingsCsvChunks(task.from, task.to)) {
        text += chunk;
        if (++meters > 0) step(meters, total);
        if (text.length >= CHUNK_CHARS) {
          await ctx.send(text);
          text = '';
        }
      }
      if (text) await ctx.send(text);
      ctx.progress({ stage: 'meters', done: total, total });
      return null;
    }
    case 'billing.import-check': {
      // Progress in bytes of the file: the row count is not known until the end.
      const total = (await stat(task.file)).size;
      const input = createReadStream(task.file);
      const staging = ImportStaging.create(task.staging);
      const step = percentSteps((done) => ctx.progress({ stage: 'checking', done, total }));
      try {
        return await checkImport(task.what, input, service.importRules(), staging, () => step(input.bytesRead, total));
      } finally {
        staging.close();
      }
    }
  }
}

/** Calls fn only when the whole percentage changes (and at the end): at most 101 messages however many meters. */
function percentSteps(fn: (done: number, total: number) => void): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = total ? Math.floor((done * 100) / total) : 100;
    if (pct === last) return;
    last = pct;
    fn(done, total);
  };
}
