import { Controller, Get, Header, Logger } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Auth } from '../common/auth.decorators.js';
import { LivenessDto, ReadinessDto } from './dto/health.dto.js';
import { NotReadyError } from './health.errors.js';

const PROBE_TIMEOUT_MS = 3000;

/**
 * Probes for load balancers and orchestrators. A failed readiness probe is an ordinary answer (503 with the
 * `NOT_READY` problem), logged as one line when the state changes, never a stack trace per probe.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');
  private lastDatabaseState: 'up' | 'down' = 'up';

  constructor(private readonly database: TypeOrmHealthIndicator) {}

  @Get('live')
  @Auth('public')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'Liveness: the process is up',
    description:
      'Answers as long as the process serves HTTP; it checks no dependency (restart it when this fails).',
  })
  @ApiOkResponse({ type: LivenessDto, description: 'The process is up.' })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @Auth('public')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: the database answers',
    description: `Pings the database (within ${PROBE_TIMEOUT_MS / 1000} s). Route traffic here only while it answers 200.`,
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready: every dependency answered.' })
  @ApiErrors(NotReadyError)
  async ready(): Promise<ReadinessDto> {
    const database = await this.pingDatabase();
    if (database !== this.lastDatabaseState)
      this.logger[database === 'up' ? 'log' : 'warn'](`readiness: the database is ${database}`);
    this.lastDatabaseState = database;
    if (database === 'down') throw new NotReadyError({ database });
    return { status: 'ok', checks: { database } };
  }

  private async pingDatabase(): Promise<'up' | 'down'> {
    try {
      const result = await this.database.pingCheck('database', { timeout: PROBE_TIMEOUT_MS });
      return (result as Record<string, { status?: string }>).database?.status === 'up' ? 'up' : 'down';
    } catch {
      return 'down';
    }
  }
}
