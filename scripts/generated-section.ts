import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A generated section of a hand-written document, between two marker comments, kept out of
 * Prettier's reach (its tables are written exactly as the generator makes them).
 */
export class GeneratedSection {
  constructor(
    readonly file: string,
    private readonly start: string,
    private readonly end: string,
  ) {}

  /** The section as it goes into the document, markers included. */
  wrap(parts: string[]): string {
    return [
      this.start,
      '<!-- prettier-ignore-start -->',
      '',
      ...parts.flatMap((p) => [p, '']),
      '<!-- prettier-ignore-end -->',
      this.end,
    ].join('\n');
  }

  /** `doc` with its section replaced by `section`. */
  replaceIn(doc: string, section: string): string {
    const start = doc.indexOf(this.start);
    const end = doc.indexOf(this.end);
    if (start < 0 || end < 0) throw new Error(`${this.file} has no ${this.start} … ${this.end} markers`);
    return doc.slice(0, start) + section + doc.slice(end + this.end.length);
  }

  /** Rewrites the file with the section replaced and says so (the `npm run docs:*` scripts). */
  write(section: string, what: string): void {
    fs.writeFileSync(this.file, this.replaceIn(fs.readFileSync(this.file, 'utf8'), section));
    console.log(`updated the ${what} in ${path.relative(process.cwd(), this.file)}`);
  }
}
