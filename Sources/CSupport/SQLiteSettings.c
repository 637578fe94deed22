// Process-wide SQLite settings. `sqlite3_config` is variadic, which Swift cannot call, and it only
// takes effect before the library's first use (it returns SQLITE_MISUSE after).
#include "CSupport.h"
#include <sqlite3.h>

int ss_configure_sqlite(void) {
    // No global memory statistics: selfserve never reads them, and keeping them takes a mutex around
    // every allocation and free SQLite makes (1.6 million in a month's billing run, 3% of it).
    int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (rc != SQLITE_OK) return rc;
    // A savepoint's journal (the pages it changed, as they were) stays in memory up to 4 MiB instead
    // of 64 KiB: it is only read to roll the savepoint back, never after a crash, and a billing run's
    // savepoint of 500 subscriptions wrote ten thousand pages to a temporary file.
    return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 4 * 1024 * 1024);
}
