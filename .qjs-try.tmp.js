const { newQuickJSWASMModule, shouldInterruptAfterDeadline } = require('quickjs-emscripten');
(async () => {
  const QJS = await newQuickJSWASMModule();
  const stack = +process.argv[2],
    hostDepth = +process.argv[3];
  const tries = [
    'let d=0; function f(){d++; try { return f()+1 } catch(e) { return d }}; return f()',
    'let d=0; function f(){d++; try { return [1].map(()=>f())[0]+1 } catch(e) { return d }}; return f()',
    'let d=0; function f(){d++; try { return JSON.parse("1", ()=>f())+1 } catch(e) { return d }}; return f()',
    'let d=0; const o={get x(){d++; try { return this.x } catch(e){ return d }}}; return o.x',
    'let d=0; function f(){d++; try { return new Proxy({}, {get(){ return f() }}).z } catch(e) { return d }}; return f()',
    'let a=[]; for(let i=0;i<100000;i++) a=[a]; return JSON.stringify(a).length',
    'let d=0; function f(){d++; try { return eval("f()") } catch(e) { return d }}; return f()',
    'let d=0; function f(){d++; try { return String({toString: f}) } catch(e) { return d }}; return f()',
    'let d=0; function f(){d++; try { return Reflect.apply(f, null, []) } catch(e) { return d }}; return f()',
    'let s="(".repeat(100000)+")".repeat(100000); return eval(s)',
  ];
  function host(n, fn) {
    return n === 0 ? fn() : host(n - 1, fn) + 0;
  }
  for (const code of tries) {
    const rt = QJS.newRuntime();
    rt.setMemoryLimit(32 * 1024 * 1024);
    rt.setMaxStackSize(stack);
    rt.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + 3000));
    const ctx = rt.newContext();
    host(hostDepth, () => {
      const r = ctx.evalCode(`(function(){ ${code}\n})()`);
      if (r.error) {
        const e = ctx.dump(r.error);
        r.error.dispose();
        console.log(code.slice(0, 50), 'ERR', JSON.stringify(e).slice(0, 100));
      } else {
        console.log(code.slice(0, 50), 'OK', ctx.dump(r.value));
        r.value.dispose();
      }
      return 0;
    });
    ctx.dispose();
    rt.dispose();
  }
})();
