import { z } from 'zod';
import { decimal } from './primitives.ts';

// Tariffs and the billing calendar (issue 7). Prices are decimal strings; the
// billing code turns them into decimal.js values and never into binary floats.

/** One step of a tiered electricity price: use up to `uptoKWh` in the period at `pricePerKWh`; the last tier has no limit. */
const tier = z.object({ uptoKWh: decimal.optional(), pricePerKWh: decimal });

export const tariffs = z
  .object({
    currency: z.string().length(3).default('CNY'),
    /** Flat electricity price; used when no tiers are given. */
    electricityPerKWh: decimal,
    /** Optional tiers (阶梯电价) on each statement's electricity use; they replace the flat price. */
    electricityTiers: z.array(tier).default([]),
    waterPerM3: decimal,
    managementFeePerM2Month: decimal,
    /** Late fee (滞纳金) per day on the overdue amount, e.g. "0.0005" = 0.05 % a day. */
    lateFeePerDay: decimal,
  })
  .superRefine((t, ctx) => {
    t.electricityTiers.forEach((step, i) => {
      const last = i === t.electricityTiers.length - 1;
      if (last && step.uptoKWh !== undefined) ctx.addIssue({ code: 'custom', path: ['electricityTiers', i, 'uptoKWh'], message: 'the last tier has no upper limit' });
      if (!last && step.uptoKWh === undefined) ctx.addIssue({ code: 'custom', path: ['electricityTiers', i, 'uptoKWh'], message: 'every tier but the last needs an upper limit' });
      const previous = t.electricityTiers[i - 1]?.uptoKWh;
      if (step.uptoKWh !== undefined && previous !== undefined && Number(step.uptoKWh) <= Number(previous))
        ctx.addIssue({ code: 'custom', path: ['electricityTiers', i, 'uptoKWh'], message: `must be above the previous tier's ${previous}` });
    });
  });

// handbook 第三节: reads by the 25th, notices before the 1st, payment by the 5th,
// phone reminders on the 18th, dunning letters on the 23rd.
export const billing = z.object({
  /** The day of the month whose local midnight closes a billing period's meter reads. */
  readingDay: z.number().int().min(1).max(28).default(25),
  noticeDay: z.number().int().min(1).max(28).default(1),
  paymentDueDay: z.number().int().min(1).max(28).default(5),
  reminderDay: z.number().int().min(1).max(28).default(18),
  dunningDay: z.number().int().min(1).max(28).default(23),
  /** The phone number printed on fee notices for enquiries (handbook 第三节: 查询电话). */
  enquiryPhone: z.string().min(3).default('021-60000000'),
  /** How often the billing register of every meter is stored as an interval read in the records store. */
  intervalMinutes: z.number().int().min(1).max(1440).default(15),
  /** A snapshot whose fresh read fails may use the latest good read at most this old, flagged as a fallback. */
  fallbackToleranceHours: z.number().positive().default(24),
  /** Estimated closing reads allowed in a row for one meter; beyond it the meter is held for a hand read. */
  maxConsecutiveEstimates: z.number().int().min(0).default(2),
  /** A period's daily use above this many times the meter's own average of earlier periods is a spike. */
  spikeFactor: z.number().min(1).default(3),
  /** The same non-zero daily closing value this many days in a row on an occupied unit is a frozen meter. */
  frozenDays: z.number().int().min(2).default(3),
});

export const BILLING_DEFAULTS = billing.parse({});
