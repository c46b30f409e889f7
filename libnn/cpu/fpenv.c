#include "compute.h"

/* -DNN_NO_FTZ keeps the caller's mode, for measuring what flushing subnormals buys. */
#if (defined(__SSE__) || defined(__x86_64__)) && !defined(NN_NO_FTZ)
#include <xmmintrin.h>
/* MXCSR bit 15 is flush-to-zero, bit 6 denormals-are-zero. */
#define NN_MXCSR_FTZ_DAZ 0x8040u

void nn__fpenv_enter(nn__fpenv *env)
{
    env->saved = _mm_getcsr();
    _mm_setcsr(env->saved | NN_MXCSR_FTZ_DAZ);
}

void nn__fpenv_leave(const nn__fpenv *env) { _mm_setcsr(env->saved); }
#else
void nn__fpenv_enter(nn__fpenv *env) { env->saved = 0; }
void nn__fpenv_leave(const nn__fpenv *env) { (void)env; }
#endif
