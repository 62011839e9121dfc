import { Controller, Get, Param } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Auth } from '../../common/auth.decorators.js';
import { ScimDiscoveryService } from './scim-discovery.service.js';

/** `/scim/v2` discovery (RFC 7644 §4). SCIM documents itself here, so this is not in the REST OpenAPI document. */
@ApiExcludeController()
@Controller('scim/v2')
@Auth('scim_token')
export class ScimDiscoveryController {
  constructor(private readonly discovery: ScimDiscoveryService) {}

  @Get('ServiceProviderConfig')
  serviceProviderConfig(): object {
    return this.discovery.serviceProviderConfig();
  }

  @Get('ResourceTypes')
  resourceTypes(): object {
    return this.discovery.resourceTypes();
  }

  @Get('ResourceTypes/:id')
  resourceType(@Param('id') id: string): object {
    return this.discovery.resourceType(id);
  }

  @Get('Schemas')
  schemas(): object {
    return this.discovery.schemas();
  }

  @Get('Schemas/:id')
  schema(@Param('id') id: string): object {
    return this.discovery.schema(id);
  }
}
