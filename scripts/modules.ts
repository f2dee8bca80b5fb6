/**
 * The partner modules of the hub, one registration line each: what `npm run deploy:gen`
 * generates the NATS users from (and, in the order given, what a process of each service runs).
 * A new partner module (`npm run new:partner`) adds its line here.
 */
import { coaModule } from '@ketenhub/adapter-coa';
import { duoModule } from '@ketenhub/adapter-duo';
import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';
import { kredietbankModule } from '@ketenhub/adapter-kredietbank';
import { taalaanbiederModule } from '@ketenhub/adapter-taalaanbieder';
import type { PartnerModule } from '@ketenhub/kit';
import { adminModule } from '../services/admin/module.ts';
import { woningcorporatieModule } from '../adapters/woningcorporatie/src/module.ts';
import { vluchtelingenwerkModule } from '../adapters/vluchtelingenwerk/src/module.ts';

export const MODULES: (() => PartnerModule)[] = [
  coaModule,
  kvsModule,
  duoModule,
  kredietbankModule,
  taalaanbiederModule,
  adminModule,
  woningcorporatieModule,
  vluchtelingenwerkModule,
];
