#include <stdio.h>
#include <stdlib.h>
#include "counter.ph"

#define MAX_MACHINES 16

// psm's POP-C++ test program: one Counter on each machine named on the command line, all alive
// at once; object k adds 1..10*k, and the client prints what every object returns, then the total.
int main(int argc, char **argv)
{
	if (argc < 2 || argc - 1 > MAX_MACHINES) {
		fprintf(stderr, "usage: psmsum MACHINE... (at most %d)\n", MAX_MACHINES);
		return 2;
	}
	Counter *objects[MAX_MACHINES];
	int n = 0;
	try {
		for (int k = 1; k < argc; k++) objects[n++] = new Counter(argv[k]);
		for (int k = 1; k <= n; k++)
			for (int i = 1; i <= 10 * k; i++) objects[k - 1]->Add(i);
		int total = 0;
		for (int k = 1; k <= n; k++) {
			int got = objects[k - 1]->Get();
			POPString where = objects[k - 1]->Where();
			printf("object %d on %s: sum=%d\n", k, (const char *)where, got);
			total += got;
		}
		printf("total=%d\n", total);
	} catch (POPException *e) {
		fprintf(stderr, "psmsum: POP-C++ exception\n");
		e->Print();
		delete e;
		for (int k = 0; k < n; k++) delete objects[k];
		return 1;
	}
	for (int k = 0; k < n; k++) delete objects[k];
	return 0;
}
