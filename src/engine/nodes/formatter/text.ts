/** `string.*` formatter operations. */
import { NodeError } from '../../node-types';
import { splitText } from '../../text-search';
import type { Operation } from './operation';

export const TEXT_OPERATIONS: [string, Operation][] = [
  ['string.trim', (input) => input.trim()],
  ['string.lowercase', (input) => input.toLowerCase()],
  ['string.uppercase', (input) => input.toUpperCase()],
  [
    'string.replace',
    (input, f) => splitText(input, f.requiredString('search_for', false)).join(f.string('replace_with') ?? ''),
  ],
  [
    'string.split',
    (input, f) => {
      const parts = splitText(input, f.requiredString('delimiter', false));
      const index = f.index('index', true);
      if (index >= parts.length) {
        throw new NodeError(`Index ${index} is out of range for split result of length ${parts.length}.`);
      }
      return parts[index];
    },
  ],
  [
    'string.substring',
    (input, f) => {
      // Counted in code points; `length` may be omitted to take the rest of the string.
      const chars = Array.from(input);
      const start = f.index('start', true);
      const length = f.index('length', false);
      return chars.slice(start, length === undefined ? undefined : start + length).join('');
    },
  ],
];
