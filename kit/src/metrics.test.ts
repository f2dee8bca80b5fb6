import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

describe('createMetrics', () => {
  it('registers the hub metrics with a service label on its own registry', async () => {
    const m = createMetrics('coa-in');
    m.messages.inc({ flow: 'koppeling', partner: 'coa', outcome: 'delivered' });
    m.breakerState.set({ partner: 'kvs', endpoint: 'gm0797' }, 2);
    m.partnerCalls.inc({ partner: 'kvs', endpoint: 'gm0797', outcome: 'success' });
    m.httpRequests.inc({ route: '/v1/koppelingen', status: '202' });
    m.authFailures.inc({ partner: 'unknown', reason: 'missing' });
    m.deliveryDuration.observe({ flow: 'koppeling', partner: 'coa' }, 0.2);

    const text = await m.registry.metrics();
    expect(text).toContain(
      'ketenhub_messages_total{flow="koppeling",partner="coa",outcome="delivered",service="coa-in"} 1',
    );
    expect(text).toContain(
      'ketenhub_breaker_state{partner="kvs",endpoint="gm0797",service="coa-in"} 2',
    );
    expect(text).toContain('ketenhub_partner_calls_total');
    expect(text).toContain('ketenhub_http_requests_total{route="/v1/koppelingen",status="202"');
    expect(text).toContain('ketenhub_auth_failures_total');
    expect(text).toContain('ketenhub_delivery_duration_seconds_bucket');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('keeps registries of two services apart', async () => {
    const a = createMetrics('a');
    const b = createMetrics('b');
    a.messages.inc({ flow: 'f', partner: 'p', outcome: 'delivered' });
    expect(await b.registry.getSingleMetricAsString('ketenhub_messages_total')).not.toContain(
      'outcome="delivered"',
    );
  });
});
