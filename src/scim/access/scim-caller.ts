import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Who calls `/scim/v2`: an organization, through one of its SCIM tokens. There is no person behind it. */
export interface ScimCaller {
  organizationId: string;
  tokenId: string;
}

/** The caller of a route under `@Auth('scim_token')`. */
export const CurrentScimCaller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ScimCaller => {
    const request = context.switchToHttp().getRequest<Request & { user?: ScimCaller }>();
    if (!request.user?.tokenId)
      throw new Error('CurrentScimCaller used on a route without @Auth(scim_token)');
    return { organizationId: request.user.organizationId, tokenId: request.user.tokenId };
  },
);
