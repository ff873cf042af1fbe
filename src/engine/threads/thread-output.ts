/** Where engine threads send what their code prints (the main thread logs it at debug). */
export const THREAD_OUTPUT_CHANNEL = 'runloom:engine-thread-output';
