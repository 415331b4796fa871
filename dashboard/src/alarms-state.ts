// Stub: replaced by the alarms page's owner.
export function startAlarms(): void {}
