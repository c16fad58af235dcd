import { InvalidArgumentError } from 'commander';
import {
  parseDnsLabel,
  parseDuration,
  parseHost,
  parseListenPort,
  parsePortList,
  parseTargetPort,
} from '../../../pkg/binary/flags.js';

describe('parseListenPort', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['15904', 15904],
    ['65535', 65535],
  ])('accepts %s', (input, want) => {
    expect(parseListenPort(input)).toBe(want);
  });
  it.each(['', '-1', '65536', 'abc', '0x50', ' 80', '80 ', '1e3', '8.0'])('rejects %j', (input) => {
    expect(() => parseListenPort(input)).toThrow(InvalidArgumentError);
  });
});

describe('parseTargetPort', () => {
  it('rejects 0, accepts 1 and 65535', () => {
    expect(() => parseTargetPort('0')).toThrow(/between 1 and 65535/);
    expect(parseTargetPort('1')).toBe(1);
    expect(parseTargetPort('65535')).toBe(65535);
  });
});

describe('parsePortList', () => {
  it.each([
    ['', []],
    ['80', [80]],
    ['80,8080', [80, 8080]],
    [' 80 , 8080 ', [80, 8080]],
    ['80,80', [80]],
  ])('parses %j', (input, want) => {
    expect(parsePortList(input)).toEqual(want);
  });
  it.each([
    ['80,', /'' is not a port/],
    ['x', /'x' is not a port/],
    ['0', /outside 1-65535/],
    ['70000', /outside 1-65535/],
  ])('rejects %j', (input, msg) => {
    expect(() => parsePortList(input)).toThrow(msg);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1s', 1000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['2m', 120000],
    ['1h', 3600000],
  ])('parses %s', (input, want) => {
    expect(parseDuration(input)).toBe(want);
  });
  it.each(['1', 's', '-1s', '0s', '1d', 'abc', ''])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(InvalidArgumentError);
  });
});

describe('parseDnsLabel', () => {
  it.each(['fsm', 'fsm-system', 'a1'])('accepts %s', (v) => expect(parseDnsLabel(v)).toBe(v));
  it.each(['FSM', '-a', 'a-', 'a_b', '', 'a'.repeat(64)])('rejects %j', (v) => {
    expect(() => parseDnsLabel(v)).toThrow(/DNS-1123/);
  });
});

describe('parseHost', () => {
  it.each(['127.0.0.1', 'localhost', '::1', '10.0.0.2'])('accepts %s', (v) => expect(parseHost(v)).toBe(v));
  it.each(['', 'a b', 'http://x', '127.0.0.1:80', 'a@b'])('rejects %j', (v) => {
    expect(() => parseHost(v)).toThrow(InvalidArgumentError);
  });
});
