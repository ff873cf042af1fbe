import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { FetchOutboundHttp } from './fetch-outbound-http';
import { OutboundHttp } from './outbound-http';

/** The outbound HTTP client every workflow call goes through (the egress policy plugs in here). */
@Global()
@Module({
  providers: [
    {
      provide: OutboundHttp,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new FetchOutboundHttp({ maxResponseBytes: config.engine.httpMaxResponseBytes }),
    },
  ],
  exports: [OutboundHttp],
})
export class EgressModule {}
