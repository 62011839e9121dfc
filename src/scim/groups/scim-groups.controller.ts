import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth } from '../../common/auth.decorators.js';
import { CurrentScimCaller, type ScimCaller } from '../access/scim-caller.js';
import { addScimLogNote } from '../access/scim-request-log.js';
import { etagMatches } from './group-resource.js';
import { type GroupQuery, ScimGroupsService } from './scim-groups.service.js';

/** `/scim/v2/Groups` (RFC 7644) for the Entra provisioning service; documented by `/Schemas`, not OpenAPI. */
@ApiExcludeController()
@Controller('scim/v2/Groups')
@Auth('scim_token')
export class ScimGroupsController {
  constructor(private readonly groups: ScimGroupsService) {}

  @Get()
  list(@CurrentScimCaller() caller: ScimCaller, @Query() query: GroupQuery): Promise<object> {
    return this.groups.list(caller.organizationId, query);
  }

  @Get(':id')
  async get(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Query() query: GroupQuery,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object | undefined> {
    const { resource, etag } = await this.groups.get(caller.organizationId, id, query);
    response.setHeader('ETag', etag);
    if (!etagMatches(ifNoneMatch, etag)) return resource;
    response.status(304);
    return undefined;
  }

  @Post()
  @HttpCode(201)
  async create(
    @CurrentScimCaller() caller: ScimCaller,
    @Body() body: unknown,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object> {
    const { resource, etag, notes } = await this.groups.create(caller.organizationId, body);
    for (const note of notes) addScimLogNote(request, note);
    response.setHeader('ETag', etag);
    response.setHeader('Location', (resource.meta as { location: string }).location);
    return resource;
  }

  @Put(':id')
  async replace(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object> {
    const { resource, etag, notes } = await this.groups.replace(caller.organizationId, id, body, ifMatch);
    for (const note of notes) addScimLogNote(request, note);
    response.setHeader('ETag', etag);
    return resource;
  }

  @Patch(':id')
  @HttpCode(204)
  async patch(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const { etag, notes } = await this.groups.patch(caller.organizationId, id, body, ifMatch);
    for (const note of notes) addScimLogNote(request, note);
    response.setHeader('ETag', etag);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.groups.remove(caller.organizationId, id, ifMatch);
  }
}
