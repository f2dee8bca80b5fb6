import { duoModule } from '@ketenhub/adapter-duo';
import { runMain } from '@ketenhub/kit';

await runMain([duoModule()]);
