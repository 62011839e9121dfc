import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/config.js';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { UsersModule } from '../users/users.module.js';
import { PagesController } from './pages.controller.js';
import { PagesService } from './pages.service.js';

/** Whether the service is its own UI: then the browser flows end on its pages, else on the SPA's. */
export function servesResultPages(config: AppConfig): boolean {
  return config.appUiUrl === config.appBaseUrl;
}

/**
 * Server-rendered result pages, only in the same-origin configuration: with a separate UI (`APP_UI_URL` on
 * another origin or path) these paths belong to the SPA and the service serves nothing there.
 */
@Module({})
export class PagesModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!servesResultPages(config)) return { module: PagesModule };
    return {
      module: PagesModule,
      imports: [UsersModule, OrganizationsModule, IntegrationsModule],
      controllers: [PagesController],
      providers: [PagesService],
    };
  }
}
