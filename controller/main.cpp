#include "controller/cli.h"

int main(int argc, char** argv) { return shakedown::controller::cli_main(argc, argv); }
