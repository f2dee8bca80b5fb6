import { vluchtelingenwerkModule } from '@ketenhub/adapter-vluchtelingenwerk';
import { runMain } from '@ketenhub/kit';

await runMain([vluchtelingenwerkModule()]);
