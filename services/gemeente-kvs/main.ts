import { kvsModule } from '@ketenhub/adapter-gemeente-kvs';
import { runMain } from '@ketenhub/kit';

await runMain([kvsModule()]);
