import { coaModule } from '@ketenhub/adapter-coa';
import { runMain } from '@ketenhub/kit';

await runMain([coaModule()]);
