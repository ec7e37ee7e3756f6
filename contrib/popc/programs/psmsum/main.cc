#include <stdio.h>
#include <stdlib.h>
#include "counter.ph"

// psm's POP-C++ test program: one Counter on each machine named on the command line; each adds
// 1..10*k, and the client prints what every object returns, then the total.
int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: psmsum MACHINE...\n");
		return 2;
	}
	try {
		int total = 0;
		for (int k = 1; k < argc; k++) {
			Counter c(argv[k]);
			for (int i = 1; i <= 10 * k; i++) c.Add(i);
			int got = c.Get();
			POPString where = c.Where();
			printf("object %d on %s: sum=%d\n", k, (const char *)where, got);
			total += got;
		}
		printf("total=%d\n", total);
	} catch (POPException *e) {
		fprintf(stderr, "psmsum: POP-C++ exception\n");
		e->Print();
		delete e;
		return 1;
	}
	return 0;
}
