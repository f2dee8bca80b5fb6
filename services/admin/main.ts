import { runMain } from '@ketenhub/kit';
import { adminModule } from './module.ts';

await runMain([adminModule()]);
