import { Clock } from '../../src/common/clock';

/** "Now" that the test moves by hand. */
export class FakeClock extends Clock {
  constructor(private at: Date) {
    super();
  }
  set(iso: string): void {
    this.at = new Date(iso);
  }
  override now(): Date {
    return new Date(this.at);
  }
}
