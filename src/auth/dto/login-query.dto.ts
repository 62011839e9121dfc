import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class LoginQueryDto {
  @ApiPropertyOptional({
    description:
      'Relative path of the UI to return to after sign-in, e.g. `/settings/integrations/entra`. Anything else ' +
      '(absolute URLs) becomes `/`.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  returnTo?: string;

  @ApiPropertyOptional({
    name: 'login_hint',
    description: 'Passed to Microsoft: pre-fills the account, e.g. `megan@contoso.com`.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  login_hint?: string;

  @ApiPropertyOptional({
    name: 'domain_hint',
    description: 'Passed to Microsoft: skips home-realm discovery, e.g. `contoso.com`.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  domain_hint?: string;
}
