/** Ceiling for the benchmark: a bare NestJS route on Fastify (as Runloom serves), the framework cost without Runloom's work. */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

@Controller()
class HelloController {
  @Get('hello')
  hello(): { success: true; hello: string } {
    return { success: true, hello: 'world' };
  }
}

@Module({ controllers: [HelloController] })
class HelloModule {}

void (async () => {
  const app = await NestFactory.create(HelloModule, new FastifyAdapter(), { logger: ['error'] });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  console.log('ready');
})();
