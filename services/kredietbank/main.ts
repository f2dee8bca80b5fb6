import { kredietbankModule } from '@ketenhub/adapter-kredietbank';
import { runMain } from '@ketenhub/kit';

await runMain([kredietbankModule()]);
