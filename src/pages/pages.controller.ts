import { Controller, Get, Header, Query, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { PAGE_CSP } from './html.js';
import { PAGES_SCRIPT, PAGES_STYLE } from './page-assets.js';
import { PageErrorFilter } from './page-error.filter.js';
import { PagesService } from './pages.service.js';
import {
  chooseOrganizationPage,
  entraSettingsPage,
  homePage,
  resultQuery,
  signInPage,
  tenantAssignmentPage,
} from './pages.views.js';

const HTML = 'text/html; charset=utf-8';

/**
 * The pages the browser flows land on when the service is its own UI (`APP_UI_URL` = `APP_BASE_URL`): after
 * sign-in, a refused sign-in, the organization choice, and the connect and tenant-assignment outcomes. They
 * are for people, not clients, so they are not part of the API document.
 */
@ApiExcludeController()
@Controller()
@UseFilters(PageErrorFilter)
export class PagesController {
  constructor(private readonly pages: PagesService) {}

  @Get('/')
  @Auth('session')
  @Header('Content-Type', HTML)
  @Header('Content-Security-Policy', PAGE_CSP)
  @Header('Cache-Control', 'no-store')
  async home(@CurrentPrincipal() principal: Principal): Promise<string> {
    return homePage(await this.pages.signedIn(principal));
  }

  @Get('sign-in')
  @Auth('public')
  @Header('Content-Type', HTML)
  @Header('Content-Security-Policy', PAGE_CSP)
  @Header('Cache-Control', 'no-store')
  signIn(@Query() query: unknown): string {
    return signInPage(resultQuery(query));
  }

  @Get('sign-in/choose-organization')
  @Auth('public')
  @Header('Content-Type', HTML)
  @Header('Content-Security-Policy', PAGE_CSP)
  @Header('Cache-Control', 'no-store')
  chooseOrganization(): string {
    return chooseOrganizationPage();
  }

  @Get('settings/integrations/entra')
  @Auth('session')
  @Header('Content-Type', HTML)
  @Header('Content-Security-Policy', PAGE_CSP)
  @Header('Cache-Control', 'no-store')
  async entraSettings(@CurrentPrincipal() principal: Principal, @Query() query: unknown): Promise<string> {
    return entraSettingsPage(resultQuery(query), await this.pages.connection(principal));
  }

  @Get('settings/tenant-assignment')
  @Auth('session')
  @Header('Content-Type', HTML)
  @Header('Content-Security-Policy', PAGE_CSP)
  @Header('Cache-Control', 'no-store')
  tenantAssignment(@Query() query: unknown): string {
    return tenantAssignmentPage(resultQuery(query));
  }

  @Get('pages/pages.js')
  @Auth('public')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): string {
    return PAGES_SCRIPT;
  }

  @Get('pages/pages.css')
  @Auth('public')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  style(): string {
    return PAGES_STYLE;
  }
}
