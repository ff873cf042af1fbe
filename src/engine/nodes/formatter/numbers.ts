/** `number.*` formatter operations and `type.to_number`. */
import { NodeError } from '../../node-types';
import { jsonNumber, parseInput, type Fields, type Operation } from './operation';

export const NUMBER_OPERATIONS: [string, Operation][] = [
  ['number.add', (input, f) => arithmetic(input, f, (a, b) => a + b)],
  ['number.subtract', (input, f) => arithmetic(input, f, (a, b) => a - b)],
  ['number.multiply', (input, f) => arithmetic(input, f, (a, b) => a * b)],
  [
    'number.divide',
    (input, f) =>
      arithmetic(input, f, (a, b) => {
        if (b === 0) throw new NodeError('Cannot divide by zero.');
        return a / b;
      }),
  ],
  [
    'number.round',
    (input, f) => {
      const places = Math.floor(f.requiredNumber('decimal_places'));
      if (places < 0) throw new NodeError('Field "decimal_places" must be zero or greater.');
      if (places > 15) throw new NodeError('Field "decimal_places" must be 15 or less.');
      const value = parseInput(input, f.op);
      const factor = 10 ** places;
      // Half away from zero, as the reference (Rust `f64::round`) does.
      return jsonNumber((Math.sign(value) * Math.round(Math.abs(value) * factor)) / factor);
    },
  ],
  ['type.to_number', (input, f) => jsonNumber(parseInput(input, f.op))],
];

function arithmetic(input: string, f: Fields, apply: (a: number, b: number) => number): number {
  const operand = f.requiredNumber('value');
  return jsonNumber(apply(parseInput(input, f.op), operand));
}
