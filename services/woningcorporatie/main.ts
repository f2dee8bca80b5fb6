import { woningcorporatieModule } from '@ketenhub/adapter-woningcorporatie';
import { runMain } from '@ketenhub/kit';

await runMain([woningcorporatieModule()]);
