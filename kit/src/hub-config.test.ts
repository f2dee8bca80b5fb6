import { describe, expect, it } from 'vitest';
import { policies } from '@ketenhub/contracts';
import { streamLimits, type HubConfig } from './hub-config.ts';

const base = { streams: {} } as unknown as HubConfig;

describe('streamLimits', () => {
  it('takes retention from the processing register', () => {
    expect(streamLimits(base)).toEqual({
      ketenMaxAgeDays: 93,
      deadLetterMaxAgeDays: 93,
      processingLogMaxAgeDays: 732,
      replicas: 1,
    });
  });
  it('lets the config shorten retention but never lengthen it', () => {
    const config = {
      streams: {
        ketenMaxAgeDays: 30,
        deadLetterMaxAgeDays: 9999,
        processingLogMaxAgeDays: 9999,
        replicas: 3,
      },
    } as unknown as HubConfig;
    expect(streamLimits(config, policies().register)).toEqual({
      ketenMaxAgeDays: 30,
      deadLetterMaxAgeDays: 93,
      processingLogMaxAgeDays: 732,
      replicas: 3,
    });
  });
});
