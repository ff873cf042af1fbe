import { Clock } from '../../src/common/clock';

/** "Now" that the test moves by hand. */
export class FakeClock extends Clock {
  constructor(private at: Date) {
    super();
  }
  set(iso: string): void {
    this.at = new Date(iso);
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
  override now(): Date {
    return new Date(this.at);
  }
}

/** Real time plus a shift the test adds to: time keeps moving, and the test can jump ahead. */
export class ShiftedClock extends Clock {
  private shiftMs = 0;
  advance(ms: number): void {
    this.shiftMs += ms;
  }
  override now(): Date {
    return new Date(Date.now() + this.shiftMs);
  }
}
