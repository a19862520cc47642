import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LimiterModuleOptions, LimiterOptionsFactory } from '../limits/limiter-module-options.interface';

/** forRoot / forRootAsync (useFactory | useClass | useExisting, imports, inject) and `isGlobal`, generated. */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<LimiterModuleOptions>({ moduleName: 'Limiter' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createLimiterOptions' as keyof LimiterOptionsFactory)
    .setExtras<{ isGlobal?: boolean }>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
