// The faults a simulated meter can be told to show, the ones real buildings see
// (issue 3): a dead meter, a gateway or meter answering with an exception, a meter
// configured with the wrong byte order, a billing register that reads zero for a
// few polls, a register rolling over, and a meter replaced by a new one.

export type Fault =
  /** No answer at all, so the client has to time out (as setOffline does). */
  | { kind: 'timeout' }
  /**
   * Every read answered with this exception code (Modbus Application Protocol
   * §7), e.g. 0x0B "gateway target device failed to respond", 0x02 "illegal data address".
   */
  | { kind: 'exception'; code: number }
  /** Registers served with the two bytes of every register swapped. */
  | { kind: 'byte-swap' }
  /** The next `reads` reads that cover the billing register return zeros for it; then real values again. */
  | { kind: 'glitch-zero'; reads: number }
  /**
   * The billing register jumps to `below` (default 1 kWh or m³) under the profile's
   * rolloverAt, so it rolls over to near zero soon. A jump, not a lasting fault.
   */
  | { kind: 'rollover'; below?: number }
  /**
   * The meter is swapped for a new one: its counter restarts at 0 and, if given,
   * it has a new serial number. A jump, not a lasting fault.
   */
  | { kind: 'replace'; serial?: string };

export type FaultKind = Fault['kind'];

/** Throws a RangeError naming the field for a fault that cannot be simulated. */
export function checkFault(fault: Fault): void {
  switch (fault.kind) {
    case 'exception':
      // One byte on the wire; 0 would not be an exception at all.
      if (!Number.isInteger(fault.code) || fault.code < 1 || fault.code > 0xff) throw new RangeError(`fault.code must be 1..255, got ${fault.code}`);
      return;
    case 'glitch-zero':
      if (!Number.isInteger(fault.reads) || fault.reads < 1) throw new RangeError(`fault.reads must be a positive integer, got ${fault.reads}`);
      return;
    case 'rollover':
      if (fault.below !== undefined && !(fault.below > 0)) throw new RangeError(`fault.below must be positive, got ${fault.below}`);
      return;
    case 'timeout':
    case 'byte-swap':
    case 'replace':
      return;
    default:
      throw new RangeError(`unknown fault kind "${(fault as { kind: string }).kind}"`);
  }
}
