#include "nodes/apps/workload.h"
