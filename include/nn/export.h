/**
 * @file export.h
 * @brief Symbol visibility and deprecation markers shared by every libnn header.
 *
 * Only declarations marked NN_API are exported from libnn.so; everything else is hidden,
 * so internal helpers never become part of the ABI by accident.
 */
#ifndef NN_EXPORT_H
#define NN_EXPORT_H

#if defined(_WIN32) && defined(NN_BUILDING_SHARED)
#define NN_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define NN_API __attribute__((visibility("default")))
#else
#define NN_API
#endif

/** Marks a function that will be removed in the next major release; @p hint names the replacement. */
#if defined(__GNUC__) || defined(__clang__)
#define NN_DEPRECATED(hint) __attribute__((deprecated(hint)))
#else
#define NN_DEPRECATED(hint)
#endif

#ifdef __cplusplus
#define NN_BEGIN_DECLS extern "C" {
#define NN_END_DECLS }
#else
#define NN_BEGIN_DECLS
#define NN_END_DECLS
#endif

#endif /* NN_EXPORT_H */
