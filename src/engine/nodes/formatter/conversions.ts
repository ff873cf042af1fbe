/** `bool.*` formatter operations and `type.to_string`. */
import { NodeError } from '../../node-types';
import { FALSE_WORDS, flexible, TRUE_WORDS, type Operation } from './operation';

export const CONVERSION_OPERATIONS: [string, Operation][] = [
  ['bool.to_boolean', (input) => toBoolean(flexible(input))],
  ['bool.is_empty', (input) => isEmpty(flexible(input))],
  [
    'type.to_string',
    (input) => {
      const value = flexible(input);
      if (value === null) return '';
      if (typeof value === 'string') return value;
      if (typeof value !== 'object') return String(value);
      try {
        return JSON.stringify(value);
      } catch {
        // JSON.parse accepts nesting deeper than JSON.stringify's recursion can write back.
        throw new NodeError('Input is nested too deeply for type.to_string.');
      }
    },
  ],
];

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (value === null) return false;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === '' || FALSE_WORDS.has(word)) return false;
    if (TRUE_WORDS.has(word)) return true;
    throw new NodeError('Cannot convert input to boolean. Use true/false, yes/no, or 1/0.');
  }
  return Array.isArray(value) ? value.length > 0 : Object.keys(value as object).length > 0;
}

function isEmpty(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value === 'boolean') return !value;
  if (typeof value === 'number') return false;
  if (typeof value === 'string') return value.trim() === '';
  return Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
}
