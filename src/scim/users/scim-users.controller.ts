import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
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
import { listResponse, project, SCIM_CONTENT_TYPE } from '../protocol/index.js';
import { etagMatches, etagOf } from './scim-user-resource.js';
import { ScimUsersService, type ScimUserView } from './scim-users.service.js';

type ScimQuery = Record<string, unknown>;

/** A query parameter given once or several times, as one comma-separated list (attributes, excludedAttributes). */
const listParam = (value: unknown): string | undefined =>
  Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : undefined;

/** `/scim/v2/Users` (RFC 7644): SCIM documents itself through `/Schemas`, so it is not in the REST document. */
@ApiExcludeController()
@Auth('scim_token')
@Controller('scim/v2/Users')
export class ScimUsersController {
  constructor(private readonly users: ScimUsersService) {}

  @Get()
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async list(@CurrentScimCaller() caller: ScimCaller, @Query() query: ScimQuery): Promise<object> {
    const page = await this.users.list(caller.organizationId, query);
    return listResponse(
      page.resources.map((resource) => this.projected(resource, query)),
      page.totalResults,
      page.startIndex,
    );
  }

  @Get(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async get(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Query() query: ScimQuery,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object | undefined> {
    const user = await this.users.get(caller.organizationId, id);
    response.setHeader('ETag', etagOf(user.version));
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, user.version)) {
      response.status(304);
      return undefined;
    }
    return this.projected(user.resource, query);
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async create(
    @CurrentScimCaller() caller: ScimCaller,
    @Body() body: unknown,
    @Query() query: ScimQuery,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object> {
    const user = await this.users.create(caller.organizationId, body);
    for (const note of user.notes) addScimLogNote(request, note);
    response.setHeader('Location', (user.resource.meta as { location: string }).location);
    return this.written(user, query, response);
  }

  @Put(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async replace(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: ScimQuery,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object> {
    const user = await this.users.replace(caller.organizationId, id, body, ifMatch);
    for (const note of user.notes) addScimLogNote(request, note);
    return this.written(user, query, response);
  }

  /**
   * 204 with the new ETag (what Entra and Microsoft's reference collection expect); 200 with the resource when the
   * request names `attributes` or `excludedAttributes` (RFC 7644 §3.5.2: then the server MUST answer 200) or asks
   * for it with `Prefer: return=representation`.
   */
  @Patch(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async patch(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: ScimQuery,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object | undefined> {
    const user = await this.users.patch(caller.organizationId, id, body, ifMatch);
    for (const note of user.notes) addScimLogNote(request, note);
    const representation =
      query.attributes !== undefined ||
      query.excludedAttributes !== undefined ||
      Boolean(prefer?.toLowerCase().includes('return=representation'));
    if (!representation) {
      response.setHeader('ETag', etagOf(user.version));
      response.status(204);
      return undefined;
    }
    return this.written(user, query, response);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(
    @CurrentScimCaller() caller: ScimCaller,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: Request,
  ): Promise<void> {
    const { notes } = await this.users.remove(caller.organizationId, id, ifMatch);
    for (const note of notes) addScimLogNote(request, note);
  }

  private written(user: ScimUserView, query: ScimQuery, response: Response): object {
    response.setHeader('ETag', etagOf(user.version));
    return this.projected(user.resource, query);
  }

  private projected(resource: Record<string, unknown>, query: ScimQuery): Record<string, unknown> {
    return project(resource, listParam(query.attributes), listParam(query.excludedAttributes), ['username']);
  }
}
