import { z } from 'zod';
import { bilingual, id, ROLES, scryptHash } from './primitives.ts';

// The lobby and lift screens (handbook 第七节 二、大堂液晶显示屏管理规程) and who may
// put content on them: reception enters it, the management office approves it.

export const displays = z
  .array(
    z.object({
      id,
      tower: id,
      location: bilingual,
      /**
       * The screen's display token, as a scrypt hash (`bohub user hash-password`): the
       * lobby page logs in with it and may then read only this screen's content.
       */
      tokenHash: scryptHash.optional(),
    }),
  )
  .default([]);

export const display = z.object({
  /** Who enters content (前台咨询员, reception). */
  editorRoles: z.array(z.enum(ROLES)).default(['operator', 'supervisor', 'admin']),
  /** Who approves it (管理处, the management office): nothing unapproved reaches a screen. */
  approverRoles: z.array(z.enum(ROLES)).default(['supervisor', 'admin']),
  /** Seconds each entry stays up before the screen turns to the next. */
  rotateSeconds: z.number().int().min(3).max(300).default(12),
  /** The folder of content templates (config/display-templates), relative to the building file. */
  templatesDir: z.string().optional(),
  maxImageBytes: z.number().int().positive().max(8 * 1024 * 1024).default(1024 * 1024),
});
