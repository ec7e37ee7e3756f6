#include <stdio.h>
#include <unistd.h>
#include "counter.ph"

Counter::Counter(POPString machine)
{
	sum = 0;
}

Counter::~Counter()
{
}

void Counter::Add(int value)
{
	sum += value;
}

int Counter::Get()
{
	return sum;
}

POPString Counter::Where()
{
	char name[256];
	if (gethostname(name, sizeof name) != 0) name[0] = 0;
	name[sizeof name - 1] = 0;
	char line[512];
	snprintf(line, sizeof line, "%s pid %d", name, (int)getpid());
	return POPString(line);
}

@pack(Counter);
