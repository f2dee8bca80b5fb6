import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { policies } from '@ketenhub/contracts';
import { connectNats } from '@ketenhub/kit';
import { disclosuresFor, type DisclosureView } from '@ketenhub/kit/operations';

/**
 * A person's right of access (inzage) as `npm run inzage` and the admin API read it: every
 * disclosure about `inburgeraarId` in the processing log of the chain's NATS, explained by the
 * register; with `partner`, only those to that partner.
 */
export async function inzageOf(
  natsUrl: string,
  inburgeraarId: string,
  opts: { partner?: string } = {},
): Promise<DisclosureView[]> {
  const nc = await connectNats(natsUrl, 'test-inzage');
  try {
    const list = await disclosuresFor(jetstream(nc), await jetstreamManager(nc), policies(), {
      betrokkenen: [inburgeraarId],
    });
    return opts.partner ? list.filter((d) => d.ontvanger.partner === opts.partner) : list;
  } finally {
    await nc.drain();
  }
}
