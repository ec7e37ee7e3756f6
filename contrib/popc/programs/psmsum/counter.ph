#ifndef PSM_COUNTER_PH
#define PSM_COUNTER_PH

// A parallel object psm's tests start on a worker: it keeps a sum and says where it runs.
parclass Counter
{
	classuid(1601);

public:
	Counter(POPString machine) @{ od.url(machine); };
	~Counter();

	seq sync void Add(int value);
	conc int Get();
	conc POPString Where();

private:
	int sum;
};

#endif
