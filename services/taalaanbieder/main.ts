import { taalaanbiederModule } from '@ketenhub/adapter-taalaanbieder';
import { runMain } from '@ketenhub/kit';

await runMain([taalaanbiederModule()]);
