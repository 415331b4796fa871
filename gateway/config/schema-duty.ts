import { z } from 'zod';
import { bilingual, id, ROLES } from './primitives.ts';

// Who does what in an emergency (handbook: "Who is who", and 第一节 一、值班制度).
// Duty roles are the handbook's posts (CSC duty staff, area supervisor, director, ...);
// runbook steps name them. Each says which hub login roles may act for it. The roster
// says who holds each post and on which shift, so notifications reach the people on duty.

const dutyRole = z.object({
  id,
  name: bilingual,
  /** Hub login roles that may complete this role's steps (admin always may). */
  actedBy: z.array(z.enum(ROLES)).min(1),
});

const rosterEntry = z.object({
  role: id,
  name: z.string().min(1),
  phone: z.string().min(3),
  /** The person's hub login, if they have one. */
  username: z.string().optional(),
  /**
   * When they are on duty: a shift of the calendar ('office', 'early', 'late'),
   * 'night' (outside the early and late shifts, and all day on non-working days),
   * or 'any' (on call at all times).
   */
  shift: z.enum(['office', 'early', 'late', 'night', 'any']).default('any'),
});

export const duty = z.object({
  roles: z.array(dutyRole).default([]),
  roster: z.array(rosterEntry).default([]),
});

const webhook = z.object({
  /** Receives every notification as a JSON POST (SMS, WeCom or DingTalk gateways attach here). */
  url: z.string().url(),
  /** Sent as `authorization: Bearer <token>` when set. */
  token: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().default(5_000),
  /** Attempts after the first before the delivery is marked failed. */
  retries: z.number().int().min(0).max(20).default(5),
  /** First retry delay; each further retry waits twice as long. */
  retryDelayMs: z.number().int().positive().default(2_000),
});

export const runbooks = z.object({
  /** The folder of runbook files (config/runbooks), relative to the building file; none when absent. */
  dir: z.string().optional(),
  webhook: webhook.optional(),
});
