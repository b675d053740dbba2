import { expect, test } from '@jest/globals';
import { parseQuantity } from '../../src/util/quantity.js';

const values: Array<[string | number, number]> = [
  ['500m', 0.5],
  ['2', 2],
  [2, 2],
  ['1Gi', 2 ** 30],
  ['1024Mi', 2 ** 30],
  ['1G', 1e9],
  ['1e3', 1000],
  ['.5', 0.5],
  ['100n', 1e-7],
];
test.each(values)('%s is %d', (q, v) => {
  expect(parseQuantity(q)).toBeCloseTo(v, 12);
});

test.each(['lots', '1Gb', '', 'm'])('%s is not a quantity', (q) => {
  expect(parseQuantity(q)).toBeUndefined();
});
