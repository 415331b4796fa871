import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodeBatch } from './line-protocol.ts';
import type { Sample } from './types.ts';

/**
 * Batches the store refused as invalid (HTTP 400: a field type conflict, a line
 * it cannot parse) are never retried and never dropped silently: they are kept
 * here as line protocol, each batch under a comment with the time and the error.
 * Lines starting with # are comments in line protocol (InfluxDB 1.x docs), so an
 * operator can fix the cause and POST the file back to /write as it is.
 * InfluxDB 1.x stores the valid points of a partly invalid batch ("partial
 * write"); re-posting those is harmless, a duplicate point overwrites.
 */
export class DeadLetterFile {
  constructor(readonly path: string) {}

  async append(samples: Sample[], error: string, at: number): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const comment = `# ${new Date(at).toISOString()} batch of ${samples.length} points refused: ${error.replace(/[\r\n]+/g, ' ')}`;
    await appendFile(this.path, `${comment}\n${encodeBatch(samples)}\n`);
    const file = await open(this.path, 'r');
    await file.sync().finally(() => file.close());
  }
}
