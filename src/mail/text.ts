/** User-given text inside a mail (a name, a workspace name): one line, bounded. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').slice(0, 200);
}
